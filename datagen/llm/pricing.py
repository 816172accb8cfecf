"""Cost estimates: a small table of list prices (USD per million tokens) plus user overrides.

Prices change; the table is a convenience for well-known OpenAI models as published in 2025
(standard tier, no cached-input discount), and `--price-in/--price-out` override or supply prices
for any other model or server. The Batch API bills half the standard price.
"""

from __future__ import annotations

from dataclasses import dataclass

# model prefix -> (input, output) USD per 1M tokens. Longest matching prefix wins, so dated
# snapshots (gpt-4o-2024-08-06) find their family.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}
BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float
    source: str  # "table" or "user"

    def cost(self, prompt_tokens: int, completion_tokens: int = 0, *, batch: bool = False) -> float:
        usd = (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1e6
        return usd * (BATCH_DISCOUNT if batch else 1.0)


def price_for(model: str, price_in: float | None = None, price_out: float | None = None) -> Price | None:
    """The model's price: user values win; otherwise the longest table prefix; None when unknown."""
    base = None
    name = model.split("/")[-1].lower()  # "openai/gpt-4o" style names on routers
    matches = [k for k in PRICES_PER_MILLION if name == k or name.startswith(k + "-")]
    if matches:
        base = PRICES_PER_MILLION[max(matches, key=len)]
    if price_in is None and price_out is None:
        return Price(base[0], base[1], "table") if base else None
    pin = price_in if price_in is not None else (base[0] if base else 0.0)
    pout = price_out if price_out is not None else (base[1] if base else 0.0)
    return Price(pin, pout, "user")


def format_usd(usd: float) -> str:
    return f"${usd:,.4f}" if usd < 1 else f"${usd:,.2f}"
