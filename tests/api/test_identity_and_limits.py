"""The rules on their own (no server): client identity, Host and Origin checks, generation slots and caps.

The same attacks against real processes: test_attacks.py.
"""

from __future__ import annotations

import pytest

from llmchat.api.config import Limits
from llmchat.api.errors import Refused
from llmchat.api.identity import ProxySettings, canonical, client_ip, limit_key, parse_networks, too_wide
from llmchat.api.limits import GenerationSlots, generation_cap, rate_limit
from llmchat.api.security import check_origins_config, host_allowed, origin_allowed

PROXIES = ProxySettings(parse_networks(["10.0.0.1", "172.16.0.0/24"]))
LOOPBACK = ProxySettings(parse_networks(["127.0.0.0/8"]))


def test_remote_addr_is_the_client_without_a_trusted_proxy():
    assert client_ip("192.0.2.1", "203.0.113.5", PROXIES) == "192.0.2.1"
    assert client_ip("192.0.2.1", None, ProxySettings()) == "192.0.2.1"


def test_forwarded_for_counts_only_from_a_trusted_proxy():
    assert client_ip("10.0.0.1", "203.0.113.5", PROXIES) == "203.0.113.5"
    # the right-most hop that is not a proxy of ours: what the client wrote further left is ignored
    assert client_ip("10.0.0.1", "198.51.100.1, 203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_ip("10.0.0.1", "203.0.113.5, 172.16.0.3", PROXIES) == "203.0.113.5"
    assert client_ip("10.0.0.1", "not-an-ip", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "203.0.113.5, not-an-ip, 172.16.0.3", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "", PROXIES) == "10.0.0.1"


def test_when_every_hop_is_trusted_the_peer_is_the_client_never_a_hop_a_client_wrote():
    # a client at 127.0.0.6 inside the trusted /8 claiming to be 127.0.0.5 stays 127.0.0.6
    assert client_ip("127.0.0.6", "127.0.0.5", LOOPBACK) == "127.0.0.6"
    # the proxy at 127.0.0.1 forwarding what 127.0.0.6 wrote: the left-most hop used to win
    assert client_ip("127.0.0.1", "127.0.0.5, 127.0.0.6", LOOPBACK) == "127.0.0.1"
    assert client_ip("127.0.0.1", "::ffff:127.0.0.5", LOOPBACK) == "127.0.0.1"


def test_forwarded_for_hops_are_one_client_however_they_are_written():
    # some proxies append the client's port; an IPv6 address has many spellings; IPv4 may come IPv4-mapped
    assert client_ip("10.0.0.1", "203.0.113.5:4711", PROXIES) == "203.0.113.5"
    assert client_ip("10.0.0.1", "[2001:db8::1]:443", PROXIES) == "2001:db8::1"
    assert client_ip("10.0.0.1", "2001:DB8:0:0::1", PROXIES) == "2001:db8::1"
    assert client_ip("10.0.0.1", "::ffff:203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_ip("::ffff:10.0.0.1", "203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_ip("::ffff:127.0.0.5", None, ProxySettings()) == "127.0.0.5"
    assert client_ip("10.0.0.1", "198.51.100.1, 172.16.0.3:80", PROXIES) == "198.51.100.1"
    assert client_ip("10.0.0.1", "not-an-ip:80", PROXIES) == "10.0.0.1"
    assert canonical("[::FFFF:192.0.2.1]:80") == "192.0.2.1"


def test_no_peer_address_is_no_identity():
    assert client_ip(None, None, ProxySettings()) is None
    assert client_ip("", "203.0.113.5", PROXIES) is None
    assert client_ip("unix:/run/llmchat.sock", None, ProxySettings()) is None


def test_proxy_hops_reads_exactly_that_many_hops_from_the_right():
    two = ProxySettings(hops=2)
    assert client_ip("10.9.9.9", "198.51.100.1, 203.0.113.5, 10.0.0.2", two) == "203.0.113.5"
    assert client_ip("10.9.9.9", "10.0.0.2", two) == "10.9.9.9"  # fewer hops than proxies: the peer
    assert client_ip("10.9.9.9", "junk, 10.0.0.2", two) == "10.9.9.9"
    assert client_ip(None, "203.0.113.5", ProxySettings(hops=1)) == "203.0.113.5"  # behind a unix socket
    # with trusted_proxies as well, the header counts only from them
    both = ProxySettings(parse_networks(["10.0.0.1"]), hops=1)
    assert client_ip("10.0.0.1", "203.0.113.5", both) == "203.0.113.5"
    assert client_ip("192.0.2.1", "203.0.113.5", both) == "192.0.2.1"


def test_networks_wider_than_a_24_or_a_64_are_reported():
    networks = parse_networks(
        ["10.0.0.0/8", "10.1.2.0/24", "10.1.2.3", "2001:db8::/48", "2001:db8::/64", "::ffff:10.0.0.0/104"]
    )
    assert [str(n) for n in too_wide(networks)] == ["10.0.0.0/8", "2001:db8::/48", "10.0.0.0/8"]
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/33"])


def test_ipv6_clients_are_limited_by_their_64():
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("203.0.113.5") == "203.0.113.5"


def test_host_allow_list():
    allowed = ("127.0.0.1", "localhost", "::1", ".example.org")
    for host in ("127.0.0.1:5000", "localhost", "LOCALHOST:80", "[::1]:5000", "[::1]", "chat.example.org"):
        assert host_allowed(host, allowed), host
    for host in (
        "evil.example",
        "127.0.0.2:5000",
        "[::2]:5000",
        "[::1]x",
        "",
        "localhost.evil.example",
        "example.org.evil",
        "[::1]:99999",
    ):
        assert not host_allowed(host, allowed), host


def test_origin_is_this_site_or_a_listed_one():
    assert origin_allowed("http://127.0.0.1:5000", "127.0.0.1:5000", ())
    assert origin_allowed("https://chat.example.org", "chat.example.org:443", ())  # TLS at the proxy
    assert origin_allowed("https://app.example.net", "chat.example.org", ("https://app.example.net",))
    for origin in (
        "http://evil.example",
        "null",
        "http://127.0.0.1:5001",
        "file://",
        "http://127.0.0.1:5000/x",
        "http://user@127.0.0.1:5000",
        "https://app.example.net.evil",
    ):
        assert not origin_allowed(origin, "127.0.0.1:5000", ("https://app.example.net",)), origin


def test_cors_origins_must_be_exact_origins():
    assert check_origins_config(["https://app.example.net", "http://localhost:5173"])
    for bad in ("*", "https://*.example.net", "app.example.net", "https://app.example.net/", " https://a.b"):
        with pytest.raises(ValueError):
            check_origins_config([bad])


def test_generation_slots_per_client_and_in_all():
    slots = GenerationSlots(per_client=2, total=3)
    a1, a2 = slots.acquire("a"), slots.acquire("a")
    with pytest.raises(Refused) as mine:
        slots.acquire("a")
    assert (mine.value.status, mine.value.code, mine.value.headers["Retry-After"]) == (429, "too_many_generations", "5")
    b1 = slots.acquire("b")
    with pytest.raises(Refused) as full:
        slots.acquire("c")
    assert (full.value.status, full.value.code) == (503, "server_busy") and "Retry-After" in full.value.headers
    a1()
    a1()  # releasing twice frees one slot only
    assert slots.running("a") == 1 and slots.running() == 2
    c1 = slots.acquire("c")
    for release in (a2, b1, c1):
        release()
    assert slots.running() == 0


def test_generation_cap_stays_below_the_threads():
    assert generation_cap(Limits(), threads=32) == 24
    assert generation_cap(Limits(), threads=8) == 6
    assert generation_cap(Limits(), threads=None) == 24  # Flask's server: as for gunicorn's default 32
    assert generation_cap(Limits(max_concurrent_generations=10), threads=32) == 10
    assert generation_cap(Limits(max_concurrent_generations=32), threads=32) == 24  # lowered, with a warning
    with pytest.raises(ValueError):
        generation_cap(Limits(max_concurrent_generations=0), threads=32)


def test_rate_limit_notation():
    assert rate_limit(Limits(rate_limit_requests=30, rate_limit_window_s=60)) == "30 per 60 second"
    assert rate_limit(Limits(rate_limit_requests=0)) is None


def test_the_new_keys_come_from_app_yaml_and_the_environment(tmp_path):
    from llmchat.api.config import load_config

    path = tmp_path / "app.yaml"
    path.write_text("proxy_hops: 1\nallowed_hosts: [chat.example.org]\nlimits: {max_concurrent_per_ip: 2}\n")
    config = load_config(
        path,
        environ={
            "LLMCHAT_CORS_ORIGINS": "https://a.example,https://b.example",
            "LLMCHAT_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/1",
            "LLMCHAT_MAX_CONCURRENT_GENERATIONS": "12",
            "LLMCHAT_MAX_TOKENS_CEILING": "1024",
        },
    )
    assert (config.proxy_hops, config.allowed_hosts) == (1, ("chat.example.org",))
    assert config.cors_origins == ("https://a.example", "https://b.example")
    limits = config.limits
    assert (limits.max_concurrent_per_ip, limits.max_concurrent_generations, limits.max_tokens) == (2, 12, 1024)
    assert limits.rate_limit_storage == "redis://127.0.0.1:6379/1"
    defaults = load_config(tmp_path / "missing.yaml", environ={})
    assert (defaults.limits.max_concurrent_per_ip, defaults.limits.max_concurrent_generations) == (4, None)
    assert (defaults.limits.max_tokens, defaults.limits.rate_limit_storage) == (4096, "memory://")
