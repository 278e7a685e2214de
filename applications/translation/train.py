"""`python -m applications.translation.train --help`"""

from applications.translation import APPLICATION
from zoo.cli import train_main

if __name__ == "__main__":
    train_main(APPLICATION)
