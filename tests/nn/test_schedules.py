"""Learning-rate schedules against their closed-form formulas."""

from __future__ import annotations

import math

import pytest

from autograd_scalar import Value
from nn import optim, schedules


def sgd(lr=0.5):
    return optim.SGD([Value(1.0)], lr=lr)


def lrs(schedule, steps):
    seen = [schedule.optimizer.lr]
    for _ in range(steps):
        seen.append(schedule.step())
        assert schedule.optimizer.lr == seen[-1]
    return seen


def test_step_lr_multiplies_by_gamma_every_step_size_steps():
    seen = lrs(schedules.StepLR(sgd(0.5), step_size=3, gamma=0.1), 7)
    assert seen == pytest.approx([0.5] * 3 + [0.05] * 3 + [0.005] * 2)


def test_exponential_lr_multiplies_by_gamma_every_step():
    seen = lrs(schedules.ExponentialLR(sgd(0.5), gamma=0.9), 5)
    assert seen == pytest.approx([0.5 * 0.9 ** t for t in range(6)])


def test_linear_lr_is_micrograds_demo_schedule():
    # micrograd's demo: learning_rate = 1.0 - 0.9 * k / 100 for k = 0..99
    seen = lrs(schedules.LinearLR(sgd(1.0), start_factor=1.0, end_factor=0.1, total=100), 120)
    assert seen[:100] == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)])
    assert seen[100:] == pytest.approx([0.1] * 21)


def test_cosine_annealing_follows_half_a_cosine_to_the_minimum():
    seen = lrs(schedules.CosineAnnealingLR(sgd(0.5), total=10, min_lr=0.01), 12)
    expected = [0.01 + 0.49 * (1 + math.cos(math.pi * min(t, 10) / 10)) / 2 for t in range(13)]
    assert seen == pytest.approx(expected)
    assert seen[5] == pytest.approx((0.5 + 0.01) / 2)


def test_cosine_annealing_takes_a_rate_near_the_largest_float():
    """base_lr = 1e308 was refused as "got inf": (base - min) * (1 + cos) overflowed
    before the halving."""
    seen = lrs(schedules.CosineAnnealingLR(sgd(1e308), total=10), 6)
    assert seen[0] == 1e308 and seen[5] == pytest.approx(5e307)


def test_cosine_annealing_may_end_at_zero():
    assert lrs(schedules.CosineAnnealingLR(sgd(0.5), total=4), 4)[-1] == pytest.approx(0.0)


def test_a_schedule_sets_the_rate_for_the_optimizers_steps():
    p = Value(0.0)
    opt = optim.SGD([p], lr=1.0)
    schedule = schedules.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        p.grad = 1.0
        opt.step()
        schedule.step()
    assert p.data == pytest.approx(-(1.0 + 0.5 + 0.25))


@pytest.mark.parametrize("make, message", [
    (lambda o: schedules.StepLR(o, step_size=0), "step_size must be a positive int"),
    (lambda o: schedules.StepLR(o, step_size=2.5), "step_size must be a positive int"),
    (lambda o: schedules.StepLR(o, step_size=2, gamma=1.5), "gamma must be"),
    (lambda o: schedules.ExponentialLR(o, gamma=0), "gamma must be"),
    (lambda o: schedules.LinearLR(o, start_factor=0), "start_factor must be"),
    (lambda o: schedules.LinearLR(o, end_factor=2), "end_factor must be"),
    (lambda o: schedules.LinearLR(o, total=-3), "total must be a positive int"),
    (lambda o: schedules.CosineAnnealingLR(o, total=10, min_lr=-1), "min_lr must be"),
    (lambda o: schedules.CosineAnnealingLR(o, total=10, min_lr=0.5), "must be below"),
])
def test_bad_schedule_arguments_are_errors_that_leave_the_rate_alone(make, message):
    opt = sgd(0.5)
    with pytest.raises(ValueError, match=message):
        make(opt)
    assert opt.lr == 0.5


def test_a_schedule_needs_an_optimizer():
    with pytest.raises(TypeError, match=r"attaches to an nn\.optim optimizer"):
        schedules.ExponentialLR(object(), gamma=0.5)


MAKERS = [
    lambda o: schedules.StepLR(o, step_size=3, gamma=0.5),
    lambda o: schedules.ExponentialLR(o, gamma=0.9),
    lambda o: schedules.LinearLR(o, start_factor=1.0, end_factor=0.1, total=10),
    lambda o: schedules.CosineAnnealingLR(o, total=10, min_lr=0.01),
]


@pytest.mark.parametrize("make", MAKERS)
def test_a_saved_schedule_resumes_the_rates_of_an_unbroken_run(make):
    """A schedule made anew on a resumed optimizer took the scheduled rate as its base
    and began again at step 0 (LinearLR's 6th rate was 0.5005 for 0.46)."""
    import json
    straight = lrs(make(sgd(1.0)), 10)
    first = make(sgd(1.0))
    begun = lrs(first, 5)
    saved = json.loads(json.dumps([first.optimizer.state_dict(), first.state_dict()]))
    opt = sgd(0.3)
    opt.load_state_dict(saved[0])
    again = make(opt)
    again.load_state_dict(saved[1])
    assert begun + lrs(again, 5)[1:] == straight


@pytest.mark.parametrize("change, message", [
    (lambda s: s | {"schedule": "LinearLR"}, "the state is from a 'LinearLR' schedule"),
    (lambda s: s | {"base_lr": -1.0}, "base_lr must be a number in [0, inf), got -1.0"),
    (lambda s: s | {"steps": -1}, "steps must be an int from 0 to 2**53"),
    (lambda s: s | {"settings": {"step_size": 0, "gamma": 0.5}},
     "the saved settings are refused: step_size must be a positive int"),
    (lambda s: s | {"settings": {"gamma": 0.5}}, "settings must be a dict of step_size, gamma"),
    (lambda s: {"steps": 1}, "expected a dict with keys schedule"),
])
def test_a_bad_schedule_state_changes_nothing(change, message):
    import re
    schedule = MAKERS[0](sgd(1.0))
    lrs(schedule, 4)
    before = (schedule.state_dict(), schedule.optimizer.lr)
    with pytest.raises(ValueError, match=re.escape(message)):
        schedule.load_state_dict(change(schedule.state_dict()))
    assert (schedule.state_dict(), schedule.optimizer.lr) == before


def test_a_saved_base_rate_below_min_lr_is_said_of_the_state_not_the_optimizer():
    """The refusal said "below the optimizer's lr (0)" of an optimizer at 0.08: the number
    checked was the state's base_lr."""
    import re
    schedule = schedules.CosineAnnealingLR(sgd(0.08), total=10, min_lr=0.01)
    with pytest.raises(ValueError, match=re.escape(
            "min_lr (0.01) must be below the rate it anneals from, 0 (the optimizer's lr; in "
            "a state being loaded, its base_lr)")):
        schedule.load_state_dict(schedule.state_dict() | {"base_lr": 0.0})


def test_cosine_annealing_stays_at_its_minimum_after_total_steps():
    """Unlike PyTorch's, which turns back up along the cosine (documented)."""
    schedule = schedules.CosineAnnealingLR(sgd(1.0), total=4, min_lr=0.1)
    assert lrs(schedule, 8)[4:] == [pytest.approx(0.1)] * 5


def test_a_schedule_made_at_rate_zero_reloads_its_own_state():
    """A rate may be set to 0 (cosine annealing ends there); a schedule made then saved
    base_lr 0, which its load refused."""
    opt = sgd(1.0)
    opt.lr = 0.0
    schedule = schedules.StepLR(opt, step_size=2)
    lrs(schedule, 3)
    again = schedules.StepLR(sgd(1.0), step_size=2)
    again.load_state_dict(schedule.state_dict())
    assert again.state_dict() == schedule.state_dict() and again.optimizer.lr == 0.0
