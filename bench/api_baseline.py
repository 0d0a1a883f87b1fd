"""The baseline of the serving benchmark: the same forecast API (``scalar_ray.serving.build_api``) in one plain
uvicorn process, without Ray Serve, reading the same Redis. `python -m bench.api_baseline PORT REDIS_URL ROWS.arrow`.

Its latency against the Serve deployment's is the cost of Serve's proxy and replica hop.
"""

from __future__ import annotations

import sys

import pyarrow as pa
import uvicorn

from scalar_ray.cache.base import BestEffortCache
from scalar_ray.cache.redis import RedisCache
from scalar_ray.composition import model_catalogue
from scalar_ray.config import load_settings
from scalar_ray.serving.api import build_api
from scalar_ray.serving.errors import ModelUnavailableError
from scalar_ray.serving.forecasts import Forecast, StoredForecasts
from scalar_ray.serving.model_host import PredictionRequest
from scalar_ray.serving.service import ForecastBackend
from scalar_ray.warehouse.base import InMemoryWarehouse


class NoModels:
    """The baseline serves stored forecasts only."""

    async def predict(self, request: PredictionRequest) -> Forecast:
        raise ModelUnavailableError(f"{request.family}/{request.zone}", "not in the baseline", 60)

    async def warm(self, key: str) -> None:
        raise ModelUnavailableError(key, "not in the baseline", 60)


def main() -> None:
    port, redis_url, rows_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    settings = load_settings({"SCALAR_CACHE__URL": redis_url, "SCALAR_FORECASTING__FAMILIES": "dk_demand"})
    warehouse = InMemoryWarehouse()
    with pa.memory_map(rows_path) as source:
        warehouse.write_forecasts(pa.ipc.open_file(source).read_all())
    stored = StoredForecasts(warehouse, BestEffortCache(RedisCache.from_settings(settings.cache)))
    backend = ForecastBackend(model_catalogue(settings), stored, NoModels())
    uvicorn.run(build_api(backend, None), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
