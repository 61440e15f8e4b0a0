"""RLlib PPO with one shared policy on ``donor_game_v0`` through ``ParallelPettingZooEnv``.

Every seat of the donor game (Vallinder & Hughes 2024, arXiv:2412.10270) maps to one
policy, ``shared`` (parameter sharing, as ``agentsim.envs.multiagent.sb3_vec_env`` does
with SB3). Observations are lifted for RL first (0-d fields to shape ``(1,)``,
:class:`agentsim.envs.multiagent.SB3ReadyParallelEnv`) and flattened by RLlib's
``FlattenObservations`` connector.

RLlib pins an older gymnasium than agentsim (ray 2.60: ``gymnasium==1.2.2``; agentsim
asks for ``>=1.4,<1.5``), so it cannot share agentsim's environment: a plain
``pip install "ray[rllib]" -e .`` backtracks through ray releases looking for a match.
Use a venv of its own and install agentsim there without its dependency check:

    python -m venv .venv-rllib
    .venv-rllib/bin/pip install "ray[rllib]==2.60.0" torch==2.13.0 \\
        "pettingzoo>=1.27,<1.28" "networkx>=3.4,<4"
    .venv-rllib/bin/pip install --no-deps -e .
    .venv-rllib/bin/python examples/rllib_donor.py --iterations 2

(``pip check`` then reports agentsim's gymnasium, litellm and duckdb requirements as
unmet; the donor game needs none of them, and runs on gymnasium 1.2.2.) RLlib is about
10x slower than SB3 here; prefer ``sb3_vec_env`` unless you need RLlib's scale-out.
"""

from __future__ import annotations

import argparse
from typing import Any


def env_creator(config: dict[str, Any]) -> Any:
    """The RLlib multi-agent env of one donor game (``config``: the env's settings)."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    import agentsim
    from agentsim.envs.multiagent import SB3ReadyParallelEnv

    env = agentsim.make_env("donor_game_v0", **config)
    return ParallelPettingZooEnv(SB3ReadyParallelEnv(env))  # type: ignore[no-untyped-call]


def build(agents: int, seed: int) -> Any:
    """A PPO algorithm with one policy shared by every seat."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.connectors.env_to_module import FlattenObservations
    from ray.tune.registry import register_env

    register_env("agentsim_donor", env_creator)
    config = (
        PPOConfig()  # type: ignore[no-untyped-call]
        .environment("agentsim_donor", env_config={"agents": agents})
        .framework("torch")
        .env_runners(
            num_env_runners=0,
            num_envs_per_env_runner=1,
            # RLlib has called this with (env), then (env, spaces, device): take any.
            env_to_module_connector=lambda *args, **kwargs: FlattenObservations(multi_agent=True),
        )
        .training(train_batch_size_per_learner=1000, minibatch_size=250, num_epochs=5)
        .multi_agent(
            policies={"shared"}, policy_mapping_fn=lambda agent_id, episode, **kw: "shared"
        )
        .debugging(seed=seed)
    )
    return config.build_algo()


def main() -> None:
    """Train for a few iterations and print each one's mean episode return."""
    import ray

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        algo = build(args.agents, args.seed)
        for i in range(args.iterations):
            result = algo.train()
            runners = result.get("env_runners", {})
            print(
                f"iteration {i + 1}: episode_return_mean="
                f"{runners.get('episode_return_mean', float('nan')):.2f} "
                f"env_steps={runners.get('num_env_steps_sampled_lifetime', '?')}"
            )
        algo.stop()
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
