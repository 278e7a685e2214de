"""`python -m applications.draw.train --help`"""

from applications.draw import APPLICATION
from zoo.cli import train_main

if __name__ == "__main__":
    train_main(APPLICATION)
