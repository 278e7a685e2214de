"""`python -m applications.draw.evaluate --help`"""

from applications.draw import APPLICATION
from zoo.cli import evaluate_main

if __name__ == "__main__":
    evaluate_main(APPLICATION)
