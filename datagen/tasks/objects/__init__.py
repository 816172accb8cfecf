"""COCO object checks shared by generation filters and `datagen audit`: the synonym list, the mention
matcher (negation, counts) and what an image's annotations say is in it."""
