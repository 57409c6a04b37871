"""For benchmarks/bench_peers.py --before: every Python process started with this folder on
PYTHONPATH validates line by line (the block path of inmet_pipeline.blockscan switched off),
as the upload function did before issue 17. Python imports ``sitecustomize`` at start-up."""

import inmet_pipeline.blockscan as _blockscan

_blockscan.scan_block = lambda *_args, **_kwargs: None
