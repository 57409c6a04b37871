"""For benchmarks/bench_peers.py --before: every Python process started with this folder on
PYTHONPATH runs with two optimisations switched off (Python imports ``sitecustomize`` at
start-up):

- the validator reads line by line (the block path of inmet_pipeline.blockscan switched off);
- the local exporter takes the service's default waves of 16 partitions (one unload query
  each, no put while the next is unloaded) instead of its own four groups of 48.
"""

import inmet_local.emulator.local_adapter as _local_adapter
import inmet_pipeline.blockscan as _blockscan
from inmet_pipeline.exports import ExportService as _ExportService

_blockscan.ENABLED = False
_local_adapter.LocalExporter.partitions_per_call = _ExportService.WAVE
