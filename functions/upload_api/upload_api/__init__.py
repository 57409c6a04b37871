"""UploadFunction: the HTTPS upload endpoint (FastAPI behind Mangum). HTTP in and out only."""
