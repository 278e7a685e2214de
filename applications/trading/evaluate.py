"""`python -m applications.trading.evaluate --help`"""

from applications.trading import APPLICATION
from zoo.cli import evaluate_main

if __name__ == "__main__":
    evaluate_main(APPLICATION)
