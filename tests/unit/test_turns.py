"""Turns (dispatch/realtime/turns.py): a burst handed out a batch per event loop iteration, with
what became ready meanwhile in between; pure asyncio."""

import asyncio

from dispatch.realtime.turns import Turns


async def test_a_burst_is_handed_out_in_order_a_batch_per_iteration_with_other_work_in_between():
    turns = Turns(per_round=4)
    order: list[str] = []

    async def socket(k: int) -> None:
        await turns.take()
        order.append(f"s{k}")

    async def other_work() -> None:  # e.g. a GPS frame's fan-out, ready once the burst started
        await asyncio.sleep(0)
        order.append("other")

    sockets = [asyncio.create_task(socket(k)) for k in range(12)]
    await asyncio.sleep(0)  # every socket has asked for its turn
    await asyncio.gather(other_work(), *sockets)
    assert [o for o in order if o != "other"] == [f"s{k}" for k in range(12)]  # in the order asked
    assert 0 < order.index("other") <= 8  # not behind the whole burst
    assert not turns._waiting and not turns._handing_out


async def test_a_caller_cancelled_while_waiting_takes_no_turn_and_the_rest_go_on():
    turns = Turns(per_round=1)
    done: list[int] = []

    async def socket(k: int) -> None:
        await turns.take()
        done.append(k)

    tasks = [asyncio.create_task(socket(k)) for k in range(3)]
    await asyncio.sleep(0)
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert done == [0, 2]
    await asyncio.wait_for(turns.take(), 1)  # and later turns are still handed out
