"""`python -m tests.zoo.toy.evaluate --help`"""

from tests.zoo.toy import APPLICATION
from zoo.cli import evaluate_main

if __name__ == "__main__":
    evaluate_main(APPLICATION)
