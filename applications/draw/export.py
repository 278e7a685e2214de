"""`python -m applications.draw.export --help`"""

from applications.draw import APPLICATION
from zoo.cli import export_main

if __name__ == "__main__":
    export_main(APPLICATION)
