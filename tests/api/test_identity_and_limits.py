"""The client-IP rule and the rate limiter on their own (no server needed)."""

from __future__ import annotations

from llmchat.api.identity import client_ip, parse_networks
from llmchat.api.ratelimit import RateLimiter

PROXIES = parse_networks(["10.0.0.1", "172.16.0.0/12"])


def test_remote_addr_is_the_client_without_a_trusted_proxy():
    assert client_ip("192.0.2.1", "203.0.113.5", PROXIES) == "192.0.2.1"
    assert client_ip("192.0.2.1", None, ()) == "192.0.2.1"


def test_forwarded_for_counts_only_from_a_trusted_proxy():
    assert client_ip("10.0.0.1", "203.0.113.5", PROXIES) == "203.0.113.5"
    # the right-most hop that is not a proxy of ours: what the client wrote further left is ignored
    assert client_ip("10.0.0.1", "198.51.100.1, 203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_ip("10.0.0.1", "203.0.113.5, 172.20.0.3", PROXIES) == "203.0.113.5"
    assert client_ip("10.0.0.1", "not-an-ip", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "", PROXIES) == "10.0.0.1"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_counts_per_key_and_says_when_to_retry():
    clock = FakeClock()
    limiter = RateLimiter(requests=3, window_s=60, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.check("a") == 60
    assert limiter.check("b") == 0
    clock.now += 59.5
    assert limiter.check("a") == 1
    clock.now += 1
    assert limiter.check("a") == 0


def test_zero_requests_means_no_limit():
    limiter = RateLimiter(requests=0, window_s=60)
    assert all(limiter.check("a") == 0 for _ in range(100))


def test_forwarded_for_hops_are_one_client_however_they_are_written():
    # some proxies append the client's port; an IPv6 address has many spellings. Each used to be its own
    # client (another set of conversations), or with a port, the proxy itself: every client behind it as one.
    assert client_ip("10.0.0.1", "203.0.113.5:4711", PROXIES) == "203.0.113.5"
    assert client_ip("10.0.0.1", "[2001:db8::1]:443", PROXIES) == "2001:db8::1"
    assert client_ip("10.0.0.1", "2001:DB8:0:0::1", PROXIES) == "2001:db8::1"
    assert client_ip("10.0.0.1", "198.51.100.1, 172.20.0.3:80", PROXIES) == "198.51.100.1"
    assert client_ip("10.0.0.1", "not-an-ip:80", PROXIES) == "10.0.0.1"
