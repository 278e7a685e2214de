"""`python -m applications.trading.export --help`"""

from applications.trading import APPLICATION
from zoo.cli import export_main

if __name__ == "__main__":
    export_main(APPLICATION)
