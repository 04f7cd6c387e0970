"""The admission orchestration: firing a transition through its steps, and reading a case."""
