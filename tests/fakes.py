"""Test doubles shared by several test modules (tests/ is on sys.path via conftest)."""

from __future__ import annotations

import threading


class FakeClock:
    """A clock and its sleep in one: sleeping moves the clock, instantly."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()  # publishers sleep from several threads

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class Stub:
    """A boto3 client double: each method answers from `answers[name]`, which is a
    value, an exception to raise, or a function of the call's keyword arguments.
    Paginators yield one page: the method's answer. Calls are recorded."""

    def __init__(self, **answers: object) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, object]]] = []

    def __getattr__(self, name: str) -> object:
        if name.startswith("_") or name not in self.answers:
            raise AttributeError(name)

        def call(**kwargs: object) -> object:
            self.calls.append((name, kwargs))
            answer = self.answers[name]
            if isinstance(answer, BaseException):
                raise answer
            if callable(answer):
                return answer(**kwargs)
            return answer
        return call

    def get_paginator(self, name: str) -> object:
        stub = self

        class Paginator:
            def paginate(self, **kwargs: object) -> list[object]:
                return [getattr(stub, name)(**kwargs)]
        return Paginator()


def aws_error(code: str, operation: str = "Operation", message: str = "") -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message or code}}, operation)


class FakeAws:
    """An AwsClients double over Stub clients (a missing service raises KeyError)."""

    def __init__(self, clients: dict[str, object], *, region: str = "us-east-1",
                 account_id: str = "123456789012") -> None:
        self.clients = clients
        self.region = region
        self.account_id = account_id
        self.partition = "aws"

    def client(self, service: str) -> object:
        return self.clients[service]
