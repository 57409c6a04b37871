"""What the tools read from the user's checkout and disk: the INMET files and zips to upload
(``sources``), ``template.yaml`` (``template``), ``.env`` and the running stack's state file
(``discovery``). The bottom of ``inmet_local``: it imports only ``inmet_pipeline``.
"""
