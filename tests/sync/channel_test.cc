// Channel<T>: rendezvous, move-only values, send_exception, FIFO senders and
// receivers, close() and iteration, kill and Timeout while blocked.
#include "evergreen/sync/channel.h"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/event.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using ChannelTest = testing::SyncTest;

static_assert(std::is_base_of_v<std::runtime_error, ChannelClosed>);

TEST_F(ChannelTest, SendBlocksUntilAReceiverTakesTheValue) {
  Channel<int> channel;
  std::vector<std::string> log;
  auto sender = spawn([&] {
    log.push_back("send");
    channel.send(42);
    log.push_back("sent");
  });
  yield_rounds();
  EXPECT_EQ(log, (std::vector<std::string>{"send"}));  // no receiver yet
  EXPECT_EQ(channel.receive(), 42);
  ASSERT_TRUE(sender->join(5s));
  EXPECT_EQ(log, (std::vector<std::string>{"send", "sent"}));
}

TEST_F(ChannelTest, SendToAWaitingReceiverDoesNotBlock) {
  Channel<int> channel;
  int received = 0;
  auto receiver = spawn([&] { received = channel.receive(); });
  yield_rounds();
  bool returned = false;
  auto sender = spawn([&] {
    channel.send(7);
    returned = true;
  });
  // One round runs the sender, which must return without yielding.
  yield_rounds(1);
  EXPECT_TRUE(returned);
  ASSERT_TRUE(receiver->join(5s));
  EXPECT_EQ(received, 7);
  ASSERT_TRUE(sender->join(5s));
}

TEST_F(ChannelTest, CarriesMoveOnlyValues) {
  Channel<std::unique_ptr<std::string>> channel;
  spawn([&] { channel.send(std::make_unique<std::string>("hello")); });
  std::unique_ptr<std::string> value = channel.receive();
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, "hello");
}

TEST_F(ChannelTest, SendExceptionIsRethrownInTheReceiver) {
  Channel<int> channel;
  spawn([&] { channel.send_exception(std::make_exception_ptr(std::out_of_range("boom"))); });
  try {
    channel.receive();
    FAIL() << "no exception";
  } catch (const std::out_of_range& error) {
    EXPECT_STREQ(error.what(), "boom");
  }
}

TEST_F(ChannelTest, BlockedSendersAreServedInTheOrderTheyBlocked) {
  Channel<int> channel;
  std::vector<std::shared_ptr<Task>> senders;
  for (int i = 0; i < 5; ++i) senders.push_back(spawn([&, i] { channel.send(i); }));
  yield_rounds();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(channel.receive(), i);
  for (auto& sender : senders) ASSERT_TRUE(sender->join(5s));
}

TEST_F(ChannelTest, BlockedReceiversAreServedInTheOrderTheyBlocked) {
  Channel<int> channel;
  std::vector<int> got(5, -1);
  std::vector<std::shared_ptr<Task>> receivers;
  for (int i = 0; i < 5; ++i) receivers.push_back(spawn([&, i] { got[i] = channel.receive(); }));
  yield_rounds();
  for (int i = 0; i < 5; ++i) channel.send(100 + i);
  for (auto& receiver : receivers) ASSERT_TRUE(receiver->join(5s));
  EXPECT_EQ(got, (std::vector<int>{100, 101, 102, 103, 104}));
}

TEST_F(ChannelTest, CloseWakesBlockedReceiversAndSendersWithChannelClosed) {
  Channel<int> channel;
  int receivers_closed = 0, senders_closed = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 2; ++i) {
    tasks.push_back(spawn([&] {
      try {
        channel.receive();
      } catch (const ChannelClosed&) {
        ++receivers_closed;
      }
    }));
  }
  yield_rounds();
  channel.close();
  for (auto& task : tasks) ASSERT_TRUE(task->join(5s));
  EXPECT_EQ(receivers_closed, 2);

  Channel<int> other;
  for (int i = 0; i < 2; ++i) {
    tasks.push_back(spawn([&, i] {
      try {
        other.send(i);
      } catch (const ChannelClosed&) {
        ++senders_closed;
      }
    }));
  }
  yield_rounds();
  other.close();
  for (auto& task : tasks) ASSERT_TRUE(task->join(5s));
  EXPECT_EQ(senders_closed, 2);
}

TEST_F(ChannelTest, OperationsAfterCloseThrow) {
  Channel<int> channel;
  channel.close();
  channel.close();  // closing twice is harmless
  EXPECT_TRUE(channel.closed());
  EXPECT_THROW(channel.send(1), ChannelClosed);
  EXPECT_THROW(channel.receive(), ChannelClosed);
  try {
    channel.receive();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("closed"), std::string::npos);
  }
}

TEST_F(ChannelTest, RangeForReceivesMoveOnlyValuesUntilClosed) {
  Channel<std::unique_ptr<int>> channel;
  spawn([&] {
    for (int i = 0; i < 10; ++i) channel.send(std::make_unique<int>(i));
    channel.close();
  });
  std::vector<int> got;
  for (std::unique_ptr<int> value : channel) got.push_back(*value);
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i], i);
}

TEST_F(ChannelTest, IteratingAClosedChannelYieldsNothing) {
  Channel<int> channel;
  channel.close();
  int count = 0;
  for (int value : channel) count += value + 1;
  EXPECT_EQ(count, 0);
}

TEST_F(ChannelTest, KilledSenderDeliversNothingAndLeavesTheQueue) {
  Channel<int> channel;
  auto victim = spawn([&] { channel.send(1); });
  auto survivor = spawn([&] { channel.send(2); });
  yield_rounds();
  victim->kill();
  ASSERT_TRUE(victim->join(5s));
  EXPECT_EQ(channel.receive(), 2);
  ASSERT_TRUE(survivor->join(5s));
}

TEST_F(ChannelTest, KilledReceiverLeavesTheQueue) {
  Channel<int> channel;
  auto victim = spawn([&] { channel.receive(); });
  int got = 0;
  auto survivor = spawn([&] { got = channel.receive(); });
  yield_rounds();
  victim->kill();
  ASSERT_TRUE(victim->join(5s));
  channel.send(5);  // goes to the survivor, not the dead task
  ASSERT_TRUE(survivor->join(5s));
  EXPECT_EQ(got, 5);
}

// A value handed to a receiver that is killed in the same loop turn is
// returned by receive(); the kill comes at the next suspension point.
TEST_F(ChannelTest, ValueHandedToAReceiverKilledInTheSameTurnIsNotLost) {
  Channel<std::unique_ptr<int>> channel;
  Event never;
  std::unique_ptr<int> got;
  auto receiver = spawn([&] {
    got = channel.receive();
    never.wait();
  });
  yield_rounds();
  receiver->kill();
  channel.send(std::make_unique<int>(9));
  ASSERT_TRUE(receiver->join(5s));
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, 9);
}

// A sender whose value was taken in the same turn it was killed returns
// normally from send(); the value is delivered exactly once.
TEST_F(ChannelTest, SenderKilledInTheSameTurnItsValueWasTakenReturnsNormally) {
  Channel<int> channel;
  Event never;
  bool send_returned = false;
  auto sender = spawn([&] {
    channel.send(3);
    send_returned = true;
    never.wait();
  });
  yield_rounds();
  sender->kill();
  EXPECT_EQ(channel.receive(), 3);
  ASSERT_TRUE(sender->join(5s));
  EXPECT_TRUE(send_returned);
}

TEST_F(ChannelTest, TimeoutWhileReceivingPropagates) {
  Channel<int> channel;
  EXPECT_THROW(
      {
        Timeout deadline(10ms);
        channel.receive();
      },
      Timeout);
  // The main context left the queue: a sender now blocks for a receiver.
  bool sent = false;
  auto sender = spawn([&] {
    channel.send(1);
    sent = true;
  });
  yield_rounds();
  EXPECT_FALSE(sent);
  EXPECT_EQ(channel.receive(), 1);
  ASSERT_TRUE(sender->join(5s));
}

TEST_F(ChannelTest, DestroyingAChannelWakesItsBlockedTasks) {
  bool closed_seen = false;
  std::shared_ptr<Task> receiver;
  {
    Channel<int> channel;
    receiver = spawn([&] {
      try {
        channel.receive();
      } catch (const ChannelClosed&) {
        closed_seen = true;
      }
    });
    yield_rounds();
  }
  ASSERT_TRUE(receiver->join(5s));
  EXPECT_TRUE(closed_seen);
}

TEST_F(ChannelTest, PingPongBetweenTwoTasks) {
  Channel<int> ping, pong;
  constexpr int kRounds = 1000;
  auto echo = spawn([&] {
    for (int i = 0; i < kRounds; ++i) pong.send(ping.receive() + 1);
  });
  int value = 0;
  for (int i = 0; i < kRounds; ++i) {
    ping.send(value);
    value = pong.receive();
  }
  EXPECT_EQ(value, kRounds);
  ASSERT_TRUE(echo->join(5s));
}

TEST_F(ChannelTest, ReceiveForTimesOutWithNulloptWhenNobodySends) {
  Channel<int> channel;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(channel.receive_for(20ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_EQ(channel.receive_for(0s), std::nullopt);
  EXPECT_EQ(channel.receive_for(std::chrono::duration<double, std::nano>(0.5)), std::nullopt);
  // A timed-out receiver left the queue: a later send waits for a new one.
  bool sent = false;
  auto sender = spawn([&] {
    channel.send(1);
    sent = true;
  });
  yield_rounds();
  EXPECT_FALSE(sent);
  EXPECT_EQ(channel.receive_for(1s), 1);
  ASSERT_TRUE(sender->join(5s));
}

TEST_F(ChannelTest, ReceiveForTakesAWaitingSendersValueAtOnce) {
  Channel<std::unique_ptr<int>> channel;
  auto sender = spawn([&] { channel.send(std::make_unique<int>(7)); });
  yield_rounds();
  std::optional<std::unique_ptr<int>> got = channel.receive_for(0s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, 7);
  ASSERT_TRUE(sender->join(5s));
}

TEST_F(ChannelTest, ReceiveForGetsAValueSentWhileItWaits) {
  Channel<std::string> channel;
  spawn([&] {
    sleep(1ms);
    channel.send("hello");
  });
  EXPECT_EQ(channel.receive_for(std::chrono::duration<double>(5.0)), "hello");
}

TEST_F(ChannelTest, ReceiveForRethrowsASentException) {
  Channel<int> channel;
  spawn([&] { channel.send_exception(std::make_exception_ptr(std::invalid_argument("bad"))); });
  EXPECT_THROW(channel.receive_for(5s), std::invalid_argument);
}

TEST_F(ChannelTest, ReceiveForThrowsChannelClosedWhenClosed) {
  Channel<int> channel;
  bool closed_thrown = false;
  auto receiver = spawn([&] {
    try {
      channel.receive_for(5s);
    } catch (const ChannelClosed&) {
      closed_thrown = true;
    }
  });
  yield_rounds();
  channel.close();
  ASSERT_TRUE(receiver->join(5s));
  EXPECT_TRUE(closed_thrown);
  EXPECT_THROW(channel.receive_for(1s), ChannelClosed);
  EXPECT_THROW(channel.receive_for(0s), ChannelClosed);
}

}  // namespace
}  // namespace evergreen
