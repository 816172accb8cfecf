"""Step 5: write samples in the formats trainers and hubs read. One module per format and one
registry (`registry.FORMATS`) behind both `datagen export` and `datagen adapt`; exports never import
the model client."""
