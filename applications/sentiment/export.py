"""`python -m applications.sentiment.export --help`"""

from applications.sentiment import APPLICATION
from zoo.cli import export_main

if __name__ == "__main__":
    export_main(APPLICATION)
