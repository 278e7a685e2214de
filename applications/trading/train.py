"""`python -m applications.trading.train --help`"""

from applications.trading import APPLICATION
from applications.trading.cli import train_main

if __name__ == "__main__":
    train_main(APPLICATION)
