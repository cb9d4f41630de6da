"""Battery physics: the ideal reservoir the EMS plans with, the thermal model and ageing.

Pure functions of parameters (:mod:`twin.config.battery`) and state; the SimPy
plant that strings them together in time is ``hardware.simulated``.
"""
