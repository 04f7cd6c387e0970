"""The reference of the request table: the smallest FastAPI app, one `async def` endpoint.

uvicorn bench.minimal_app:app --port 8001
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
