"""Score tracker results against a benchmark (see pysiam/cli/eval.py)."""
from pysiam.cli.eval import main

if __name__ == "__main__":
    main()
