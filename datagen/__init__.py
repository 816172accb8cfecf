"""datagen: multimodal instruction-tuning data from symbolic image context and any OpenAI-compatible LLM."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("datagen")
except PackageNotFoundError:  # running from a source checkout without install
    __version__ = "0.1.0"

__all__ = ["__version__"]
