"""inmet_local: the `inmet` CLI and everything it runs on this machine. Never shipped to Lambda.

Its packages, and the one direction their imports point (``tests/unit/test_layout.py``)::

    cli  ->  emulator | client | ops | ml  ->  snowflake | synth  ->  workspace  ->  inmet_pipeline

- ``cli``: the ``inmet`` command, one module per command group, and ``runner`` (``inmet local
  run``: the emulator, the client and the sample together);
- ``emulator``: the cloud on this machine (moto, fakesnow and the local runtime);
- ``client``: what a user runs against any deployment (upload, status, fetch);
- ``ops``: operations on deployed artefacts (locks, the live AWS test, redrive);
- ``ml``: experiments on CLEAN (features, training with MLflow, figures);
- ``snowflake``: models of Snowflake for the deploy and the conformance tests;
- ``synth``: the sample generator;
- ``workspace``: what the tools read from disk (input files, template.yaml, .env, stack.json).
"""
