"""Runs: executing jobs over datasets — attacks today; transfer and the defenses' adversarial-example
generation next — and writing every result to the store (the only writer).

``executor`` moves shards of examples to workers (this process, a local pool), ``runner`` stores each
result as it arrives and resumes killed runs, ``jobs`` builds the named jobs the CLI runs.
"""
