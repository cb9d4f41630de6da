"""Typed clients: every declared method exists on its service; a misspelt one fails at import."""

from __future__ import annotations

import pytest

from actors.backtest.exchange import ExchangeClient
from actors.backtest.forecast import ForecastClient
from actors.backtest.market import MarketClient
from actors.backtest.site import SiteClient, SiteService
from actors.client import AsyncRemoteMethod, RemoteMethod, ServiceClient, remote
from actors.live.market import LiveMarketClient
from actors.live.market_feed import MarketFeedClient
from actors.live.site import LiveSiteClient
from actors.runtime import LocalRuntime

CLIENTS = [SiteClient, MarketClient, ForecastClient, ExchangeClient, LiveSiteClient, LiveMarketClient,
           MarketFeedClient]


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.__name__)
def test_each_client_method_is_a_method_of_its_service(client):
    declared = {name: attr for name, attr in vars(client).items()
                if isinstance(attr, RemoteMethod | AsyncRemoteMethod)}
    assert declared
    for name, attr in declared.items():
        assert attr.name == name
        assert callable(getattr(client.service, attr.name))
    assert issubclass(client.actor.__ray_metadata__.modified_class, client.service)  # ray.remote(service)


def test_a_misspelt_method_fails_when_the_client_is_defined():
    with pytest.raises(AttributeError, match="plan_dya"):

        class _Typo(ServiceClient):
            service = SiteService
            plan_dya = remote(SiteService.plan_dya)  # type: ignore[attr-defined]


def test_local_client_calls_the_service_directly():
    class Echo:
        def __init__(self, offset: int) -> None:
            self.offset = offset

        def add(self, x: int) -> int:
            return x + self.offset

    class EchoClient(ServiceClient):
        service = Echo
        actor = None
        add = remote(Echo.add)

    runtime = LocalRuntime()
    client = EchoClient.spawn(runtime, 10)
    assert runtime.get([client.add(1), client.add(2)]) == [11, 12]
