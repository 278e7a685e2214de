"""`python -m tests.zoo.toy.predict --help`"""

from tests.zoo.toy import APPLICATION
from zoo.cli import user_main

if __name__ == "__main__":
    user_main(APPLICATION)
