"""`python -m tests.zoo.toy.export --help`"""

from tests.zoo.toy import APPLICATION
from zoo.cli import export_main

if __name__ == "__main__":
    export_main(APPLICATION)
