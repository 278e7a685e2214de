"""`python -m applications.captioning.evaluate --help`"""

from applications.captioning import APPLICATION
from zoo.cli import evaluate_main

if __name__ == "__main__":
    evaluate_main(APPLICATION)
