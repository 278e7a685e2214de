"""`python -m applications.translation.evaluate --help`"""

from applications.translation import APPLICATION
from zoo.cli import evaluate_main

if __name__ == "__main__":
    evaluate_main(APPLICATION)
