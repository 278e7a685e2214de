"""`python -m applications.trading.train --help`"""

from applications.trading import APPLICATION
from zoo.cli import train_main

if __name__ == "__main__":
    train_main(APPLICATION)
