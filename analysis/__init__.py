"""Statistics over agentsim run records (``events.jsonl``); depends only on the record schema."""
