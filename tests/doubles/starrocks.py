"""A protocol double of StarRocks 3.4 for the adapter's tests: Stream Load over HTTP (FE and BE) and the MySQL protocol.

It follows the documented behaviour (docs/en/loading/StreamLoad.md, STREAM_LOAD.md, System_limit.md), not our
adapter: the FE answers a load with ``307`` to a BE and never reads the body; both check HTTP Basic credentials; the
BE wants ``Expect: 100-continue``, parses CSV by the ``columns`` header (tab by default, ``\\N`` for NULL), fails the
whole load on a bad row (``max_filter_ratio`` 0) with an ``ErrorURL`` log, upserts primary-key tables, and keeps
labels: a label is accepted once; later loads answer ``Label Already Exists`` with ``ExistingJobStatus``.
``get_load_state`` reports the label's transaction state. The MySQL side is a real MySQL-protocol server
(mysql-mimic) whose statements must parse as StarRocks SQL (sqlglot's StarRocks dialect); DDL must follow StarRocks'
primary-key rules, and queries run on DuckDB after translation. Faults are injected by the tests.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import uvicorn
from mysql_mimic import MysqlServer, Session
from mysql_mimic.auth import IdentityProvider, NativePasswordAuthPlugin, User
from sqlglot import exp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.integration.conftest import free_port

_LABEL = re.compile(r"^[A-Za-z0-9_]{1,128}$")
_TYPES = {"VARCHAR": "VARCHAR", "DATETIME": "TIMESTAMP", "DOUBLE": "DOUBLE", "BIGINT": "BIGINT", "INT": "INTEGER"}


@dataclass
class Faults:
    """What the double does wrong next (each counter is used up one load at a time)."""

    fail_next: int = 0
    publish_timeout_next: int = 0
    # Labels whose job is reported as still running (``Label Already Exists`` with RUNNING, state PREPARE).
    running_labels: set[str] = field(default_factory=set)
    # Labels whose earlier job is still running and then aborts: the state lookup sees ABORTED and frees the label.
    aborting_labels: set[str] = field(default_factory=set)


@dataclass
class LoadRecord:
    """One load request as the BE saw it."""

    table: str
    label: str
    expect_header: str | None
    authorized_user: str
    status: str


class StarRocksDouble:
    """FE and BE HTTP endpoints and a MySQL-protocol endpoint over one DuckDB database."""

    def __init__(self, user: str = "root", password: str = "secret", database: str = "scalar") -> None:  # noqa: S107
        self.user, self.password, self.database = user, password, database
        self.fe_port, self.be_port, self.mysql_port = free_port(), free_port(), free_port()
        self.db = duckdb.connect()
        self.db.execute("set TimeZone = 'UTC'")
        self.lock = threading.RLock()
        self.labels: dict[str, str] = {}  # "<database>/<label>" -> FINISHED | ABORTED (labels are per database)
        self.loads: list[LoadRecord] = []
        self.error_logs: dict[str, str] = {}
        self.tables: dict[tuple[str, str], list[str]] = {}  # (database, table) -> primary key columns
        self.statements: list[str] = []
        self.faults = Faults()
        self._servers: list[uvicorn.Server] = []
        self._threads: list[threading.Thread] = []
        self._mysql_loop: asyncio.AbstractEventLoop | None = None
        self._mysql: MysqlServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def __enter__(self) -> StarRocksDouble:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def http_url(self) -> str:
        """The FE's HTTP address (what the adapter is configured with)."""
        return f"http://127.0.0.1:{self.fe_port}"

    def start(self) -> None:
        """Serve FE, BE and MySQL in daemon threads; return when all three accept connections."""
        for app, port in ((self._fe_app(), self.fe_port), (self._be_app(), self.be_port)):
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        ready = threading.Event()
        thread = threading.Thread(target=self._run_mysql, args=(ready,), daemon=True)
        thread.start()
        self._threads.append(thread)
        deadline = time.monotonic() + 20
        while not (ready.is_set() and all(s.started for s in self._servers)):
            if time.monotonic() > deadline:
                raise TimeoutError("the StarRocks double did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop serving (the data stays in memory until the object goes)."""
        for server in self._servers:
            server.should_exit = True
        if self._mysql_loop is not None and self._mysql is not None:
            self._mysql_loop.call_soon_threadsafe(self._mysql.close)
        for thread in self._threads:
            thread.join(timeout=10)

    # -- HTTP ------------------------------------------------------------------------------------------------------
    def _authorized(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if (user, password) == (self.user, self.password) else None

    def _fe_app(self) -> Starlette:
        async def stream_load(request: Request) -> Response:
            if self._authorized(request) is None:
                return JSONResponse({"status": "FAILED", "msg": "Access denied"}, status_code=401)
            # The FE picks a BE and redirects without reading the body.
            location = f"http://127.0.0.1:{self.be_port}{request.url.path}"
            return Response(status_code=307, headers={"Location": location})

        async def load_state(request: Request) -> Response:
            if self._authorized(request) is None:
                return JSONResponse({"status": "FAILED", "msg": "Access denied"}, status_code=401)
            label = request.query_params.get("label", "")
            key = f"{request.path_params['db']}/{label}"
            state = "PREPARE" if label in self.faults.running_labels else self.labels.get(key, "UNKNOWN")
            if label in self.faults.aborting_labels:
                self.faults.aborting_labels.discard(label)
                state = "ABORTED"
            state = {"FINISHED": "VISIBLE"}.get(state, state)
            return JSONResponse({"msg": "success", "code": 0, "data": state, "count": 0})

        return Starlette(
            routes=[
                Route("/api/{db}/{table}/_stream_load", stream_load, methods=["PUT"]),
                Route("/api/{db}/get_load_state", load_state, methods=["GET"]),
            ]
        )

    def _be_app(self) -> Starlette:
        async def stream_load(request: Request) -> Response:
            user = self._authorized(request)
            if user is None:
                return JSONResponse({"status": "FAILED", "msg": "Access denied"}, status_code=401)
            body = await request.body()
            table = request.path_params["table"]
            answer = self._load(request.path_params["db"], table, body, dict(request.headers))
            self.loads.append(
                LoadRecord(
                    table, request.headers.get("label", ""), request.headers.get("expect"), user, answer["Status"]
                )
            )
            return JSONResponse(answer)

        async def error_log(request: Request) -> Response:
            return PlainTextResponse(self.error_logs.get(request.query_params.get("file", ""), "no such file"))

        return Starlette(
            routes=[
                Route("/api/{db}/{table}/_stream_load", stream_load, methods=["PUT"]),
                Route("/api/_load_error_log", error_log, methods=["GET"]),
            ]
        )

    def _load(self, database: str, table: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:  # noqa: PLR0911 - one answer per documented status
        label = headers.get("label") or f"auto_{uuid.uuid4().hex}"
        base: dict[str, Any] = {"TxnId": len(self.loads) + 1, "Label": label, "NumberTotalRows": 0}
        if not _LABEL.match(label):
            return {**base, "Status": "Fail", "Message": f"label {label!r} is not [A-Za-z0-9_]{{1,128}}"}
        if label in self.faults.running_labels | self.faults.aborting_labels:
            return {**base, "Status": "Label Already Exists", "ExistingJobStatus": "RUNNING"}
        key = f"{database}/{label}"
        if self.labels.get(key) == "FINISHED":
            return {**base, "Status": "Label Already Exists", "ExistingJobStatus": "FINISHED", "Message": "exists"}
        if (database, table) not in self.tables:
            return {**base, "Status": "Fail", "Message": f"unknown table {database}.{table}"}
        if self.faults.fail_next:
            self.faults.fail_next -= 1
            self.labels[key] = "ABORTED"
            return {**base, "Status": "Fail", "Message": "[E1008]Reached timeout=600000ms @127.0.0.1:8060"}
        columns = [c.strip() for c in headers.get("columns", "").split(",") if c.strip()]
        separator = headers.get("column_separator", "\t")
        try:
            rows = pa_csv.read_csv(
                io.BytesIO(body),
                read_options=pa_csv.ReadOptions(column_names=columns, autogenerate_column_names=not columns),
                parse_options=pa_csv.ParseOptions(delimiter=separator, quote_char=False),
                convert_options=pa_csv.ConvertOptions(
                    null_values=["\\N"], strings_can_be_null=True, column_types={c: pa.string() for c in columns}
                ),
            )
            with self.lock:
                self.db.register("incoming", rows)
                try:
                    self.db.execute(
                        f"insert or replace into {database}.{table} ({', '.join(columns)}) select "  # noqa: S608
                        + ", ".join(f"cast({c} as {self._type(database, table, c)})" for c in columns)
                        + " from incoming"
                    )
                finally:
                    self.db.unregister("incoming")
        except (pa.ArrowInvalid, duckdb.Error) as exc:
            self.labels[key] = "ABORTED"
            file = uuid.uuid4().hex
            self.error_logs[file] = f"Error: {exc}"
            return {
                **base,
                "Status": "Fail",
                "Message": "too many filtered rows",
                "NumberFilteredRows": 1,
                "ErrorURL": f"http://127.0.0.1:{self.be_port}/api/_load_error_log?file={file}",
            }
        self.labels[key] = "FINISHED"
        status = "Success"
        if self.faults.publish_timeout_next:
            self.faults.publish_timeout_next -= 1
            status = "Publish Timeout"
        return {
            **base,
            "Status": status,
            "Message": "OK",
            "NumberTotalRows": rows.num_rows,
            "NumberLoadedRows": rows.num_rows,
            "NumberFilteredRows": 0,
            "LoadBytes": len(body),
            "LoadTimeMs": 3,
        }

    def _type(self, database: str, table: str, column: str) -> str:
        with self.lock:
            rows = self.db.execute(
                "select data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? and column_name = ?",
                [database, table, column],
            ).fetchall()
        if not rows:
            raise duckdb.BinderException(f"column {column} is not in {table}")
        return str(rows[0][0])

    # -- MySQL protocol --------------------------------------------------------------------------------------------
    def _run_mysql(self, ready: threading.Event) -> None:
        double = self

        class Identities(IdentityProvider):
            def get_plugins(self) -> list[NativePasswordAuthPlugin]:
                return [NativePasswordAuthPlugin()]

            async def get_user(self, username: str) -> User | None:
                if username != double.user:
                    return None
                return User(name=username, auth_string=NativePasswordAuthPlugin.create_auth_string(double.password))

        class StarRocksSession(Session):
            dialect = "starrocks"

            async def query(self, expression: exp.Expression, sql: str, attrs: dict[str, str]) -> Any:
                return double.execute(expression, self.database)

        loop = asyncio.new_event_loop()
        self._mysql_loop = loop
        self._mysql = MysqlServer(session_factory=StarRocksSession, identity_provider=Identities())
        loop.run_until_complete(self._mysql.start_server(host="127.0.0.1", port=self.mysql_port))
        ready.set()
        try:
            loop.run_until_complete(self._mysql.serve_forever())
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    def execute(self, expression: exp.Expression, database: str | None) -> tuple[list[tuple[Any, ...]], list[str]]:
        """Run one parsed StarRocks statement; each StarRocks database is a DuckDB schema."""
        self.statements.append(expression.sql("starrocks"))
        if isinstance(expression, exp.Create):
            if expression.kind == "DATABASE":
                with self.lock:
                    self.db.execute(f"create schema if not exists {expression.this.name}")
                return [], []
            if expression.kind == "VIEW":  # parsed as StarRocks SQL above; DuckDB runs the same query
                with self.lock:
                    self.db.execute(f"set search_path = '{database or 'main'}'")
                    self.db.execute(expression.sql("duckdb"))
                return [], []
            return self._create_table(expression, database)
        with self.lock:
            self.db.execute(f"set search_path = '{database or 'main'}'")
            result = self.db.execute(expression.sql("duckdb"))
            if isinstance(expression, exp.Delete | exp.Insert | exp.Update):
                return [], []  # an OK packet, as StarRocks answers DML
            names = [d[0] for d in result.description or []]
            rows = result.fetchall()
        return rows, names

    def _create_table(self, create: exp.Create, current: str | None) -> tuple[list[tuple[Any, ...]], list[str]]:
        schema = create.this
        table = schema.this.name
        database = schema.this.db or current
        if not database:
            raise ValueError(f"{table}: no database selected")
        columns = [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]
        keys = [k for k in schema.expressions if isinstance(k, exp.PrimaryKey)]
        properties = create.args.get("properties")
        text = create.sql("starrocks")
        if not keys:
            raise ValueError(f"{table}: the platform's tables are primary-key tables")
        key = [column.name for column in keys[0].expressions]
        # StarRocks: key columns come first, in key order.
        if [c.name for c in columns[: len(key)]] != key:
            raise ValueError(f"{table}: primary key columns must lead the column list in key order")
        if properties is None or "DISTRIBUTED BY" not in text.upper():
            raise ValueError(f"{table}: a StarRocks table needs DISTRIBUTED BY")
        partition = re.search(r"PARTITION BY\s+DATE_TRUNC\('(?:DAY|day)',\s*(\w+)\)", text, re.IGNORECASE)
        if partition and partition.group(1) not in key:
            raise ValueError(f"{table}: the partition column must be part of the primary key")
        definitions = []
        for column in columns:
            kind = column.args["kind"].this.name.upper()
            definitions.append(f"{column.name} {_TYPES.get(kind, kind)}")
        with self.lock:
            self.db.execute(
                f"create table if not exists {database}.{table} "
                f"({', '.join(definitions)}, primary key ({', '.join(key)}))"
            )
        self.tables[(database, table)] = key
        return [], []
