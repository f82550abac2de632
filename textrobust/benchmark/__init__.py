"""The benchmark pipeline as a library: a ``BenchmarkSpec`` (read from TOML by ``read_benchmark``) and
``run_benchmark``, one function per stage. ``textrobust benchmark`` and ``textrobust demo`` are thin
commands over it.

```python
from textrobust.benchmark import read_benchmark, run_benchmark

outcome = run_benchmark(read_benchmark("my_benchmark.toml"))
print(outcome.html)
```
"""

from textrobust.benchmark.pipeline import BenchmarkOutcome, run_benchmark
from textrobust.benchmark.spec import (
    AttackSpec,
    BenchmarkSpec,
    DefenseSpec,
    ExecutorSpec,
    HumanEvalSpec,
    VictimSpec,
    read_benchmark,
)

__all__ = [
    "AttackSpec",
    "BenchmarkOutcome",
    "BenchmarkSpec",
    "DefenseSpec",
    "ExecutorSpec",
    "HumanEvalSpec",
    "VictimSpec",
    "read_benchmark",
    "run_benchmark",
]
