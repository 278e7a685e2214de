"""`python -m tests.zoo.toy.train --help`"""

from tests.zoo.toy import APPLICATION
from zoo.cli import train_main

if __name__ == "__main__":
    train_main(APPLICATION)
