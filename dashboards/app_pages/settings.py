"""Settings (admins, live): each site's Modbus or MQTT connection, its test, and a change at run time."""

from __future__ import annotations

import streamlit as st

from dashboards.client import ApiError
from dashboards.context import context, no_data

ctx = context()
st.title("Settings")
if not ctx.live or ctx.api is None or ctx.role != "admin":
    no_data("device settings (live, admins only)")
    st.stop()
for site in ctx.sites:
    try:
        device = ctx.api.get(f"/sites/{site}/device")
    except ApiError as err:
        st.warning(f"{site}: {err.detail}")
        continue
    with st.expander(f"{site}: {device['kind']}", expanded=True):
        st.json(device["config"])
        if st.button("Test the connection", key=f"test_{site}"):
            result = ctx.api.post(f"/sites/{site}/device/test")
            (st.success if result["ok"] else st.error)(result["message"] + (f" in {result['latency_ms']:.1f} ms" if result["latency_ms"] else ""))
        if device["kind"] in ("modbus", "mqtt"):
            with st.form(f"device_{site}"):
                host = st.text_input("Host", value=device["config"]["host"])
                port = st.number_input("Port", min_value=1, max_value=65535, value=int(device["config"]["port"]))
                if st.form_submit_button("Apply (the site reconnects at once)"):
                    try:
                        ctx.api.put(f"/sites/{site}/device", {"host": host, "port": int(port)})
                        st.success("Applied.")
                    except ApiError as err:
                        st.error(f"Refused: {err.detail}")
