"""``gateway profiles check``: load each profile file on its own and run its samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gateway.errors import ProfileError
from gateway.profiles.loader import load_profile
from gateway.profiles.profile import Profile
from gateway.profiles.registry import ProfileRegistry, profile_files
from gateway.profiles.samples import run_sample


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict on one profile file."""

    profile: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    samples: int = 0
    path: str = ""


def check_profiles(directory: Path) -> list[CheckResult]:
    """Check every profile in ``directory``: it loads, has samples, and each sample decodes as
    expected, both on its own and among all the other profiles (no other profile shadows it)."""
    try:
        files = profile_files(directory)
    except ProfileError as err:
        return [CheckResult(profile=str(directory), ok=False, problems=[str(err)])]
    loaded: list[Profile] = []
    results: dict[str, CheckResult] = {}
    for path in files:
        try:
            loaded.append(load_profile(path))
        except ProfileError as err:
            results[str(path)] = CheckResult(path.stem, False, [str(err)], 0, str(path))
    names: dict[str, str] = {}
    for profile in loaded:
        if profile.name in names:
            problem = f"profile {profile.name!r} is also defined by {names[profile.name]}"
            results[profile.path] = CheckResult(profile.name, False, [problem], 0, profile.path)
        names.setdefault(profile.name, profile.path)
    unique = [p for p in loaded if p.path not in results]
    everything = ProfileRegistry(unique)
    for profile in unique:
        problems = _check_one(profile, everything)
        results[profile.path] = CheckResult(
            profile.name, not problems, problems, len(profile.samples), profile.path
        )
    return [results[str(path)] for path in files]


def _check_one(profile: Profile, everything: ProfileRegistry) -> list[str]:
    if not profile.samples:
        return ["has no samples: add at least one recorded payload with its expected readings"]
    alone = ProfileRegistry([profile])
    problems: list[str] = []
    for sample in profile.samples:
        found = run_sample(alone, profile.name, sample)
        if not found and len(everything.names) > 1:
            found = [
                f"among all profiles, {p}" for p in run_sample(everything, profile.name, sample)
            ]
        problems += found
    return problems
