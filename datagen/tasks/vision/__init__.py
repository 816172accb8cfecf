"""VLM-native tasks: prompts written for a model that sees the image (`--image-input`), with the
symbolic context as hints: `dense_caption`, `visual_conversation`, `question_caption`."""
