"""`python -m applications.sentiment.train --help`"""

from applications.sentiment import APPLICATION
from zoo.cli import train_main

if __name__ == "__main__":
    train_main(APPLICATION)
