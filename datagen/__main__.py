"""`python -m datagen` entry point."""

from datagen.cli import main

if __name__ == "__main__":
    main()
