"""`python -m applications.captioning.train --help`"""

from applications.captioning import APPLICATION
from zoo.cli import train_main

if __name__ == "__main__":
    train_main(APPLICATION)
