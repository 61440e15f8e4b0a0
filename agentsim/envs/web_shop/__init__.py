"""``web_shop_v0``: a web agent serves shoppers' requests in a local online shop.

The shopping half of CASA (Qiu et al. 2024, "Evaluating Cultural and Social Awareness of
LLM Web Agents", arXiv:2410.23252) on a real local website with WebArena's observation
and action conventions (Zhou et al. 2024, arXiv:2307.13854) and WebShop's catalog fields
(Yao et al. 2022, arXiv:2207.01206).

This module stays import-light (the data and site modules import it first); it only
registers the Gymnasium id ``agentsim/WebShop-v0`` by entry point, so
``gymnasium.make("agentsim/WebShop-v0")`` works once ``agentsim.envs.web_shop`` is imported.
"""

import gymnasium

GYM_ID = "agentsim/WebShop-v0"

if GYM_ID not in gymnasium.registry:
    gymnasium.register(GYM_ID, entry_point="agentsim.envs.web_shop.env:WebShopEnv")

__all__ = ["GYM_ID"]
