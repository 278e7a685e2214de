"""`python -m applications.sentiment.evaluate --help`"""

from applications.sentiment import APPLICATION
from zoo.cli import evaluate_main

if __name__ == "__main__":
    evaluate_main(APPLICATION)
