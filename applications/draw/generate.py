"""`python -m applications.draw.generate --help`"""

from applications.draw import APPLICATION
from zoo.cli import user_main

if __name__ == "__main__":
    user_main(APPLICATION)
