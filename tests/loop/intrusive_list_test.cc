// IntrusiveList: order, unlinking from anywhere, is_linked(), and an object in
// two lists at once through two tags.
#include "evergreen/loop/internal/intrusive_list.h"

#include <vector>

#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

struct OtherTag {};

struct Item : IntrusiveListNode<Item>, IntrusiveListNode<Item, OtherTag> {
  explicit Item(int id) : id(id) {}
  int id;
};

template <class Tag = void>
std::vector<int> ids(const IntrusiveList<Item, Tag>& list) {
  std::vector<int> out;
  for (Item* item = list.front(); item != nullptr; item = IntrusiveList<Item, Tag>::next(item)) {
    out.push_back(item->id);
  }
  return out;
}

bool linked(const Item& item) { return item.IntrusiveListNode<Item>::is_linked(); }

TEST(IntrusiveListTest, NewListIsEmpty) {
  IntrusiveList<Item> list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.front(), nullptr);
  EXPECT_EQ(list.back(), nullptr);
  EXPECT_EQ(list.pop_front(), nullptr);
}

TEST(IntrusiveListTest, PushBackKeepsInsertionOrderAndPopFrontTakesTheOldest) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.push_back(&a);
  list.push_back(&b);
  list.push_back(&c);
  EXPECT_EQ(ids(list), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(list.front(), &a);
  EXPECT_EQ(list.back(), &c);

  EXPECT_EQ(list.pop_front(), &a);
  EXPECT_FALSE(linked(a));
  EXPECT_EQ(list.pop_front(), &b);
  EXPECT_EQ(list.pop_front(), &c);
  EXPECT_EQ(list.pop_front(), nullptr);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.back(), nullptr);
}

TEST(IntrusiveListTest, IsLinkedFollowsPushAndRemove) {
  Item a(1);
  IntrusiveList<Item> list;
  EXPECT_FALSE(linked(a));
  list.push_back(&a);
  EXPECT_TRUE(linked(a));
  list.remove(&a);
  EXPECT_FALSE(linked(a));
  EXPECT_TRUE(list.empty());
}

TEST(IntrusiveListTest, RemoveFromTheMiddleJoinsItsNeighbours) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.push_back(&a);
  list.push_back(&b);
  list.push_back(&c);
  list.remove(&b);
  EXPECT_FALSE(linked(b));
  EXPECT_EQ(ids(list), (std::vector<int>{1, 3}));
  EXPECT_EQ(IntrusiveList<Item>::next(&a), &c);
  EXPECT_EQ(list.front(), &a);
  EXPECT_EQ(list.back(), &c);
  // The previous links were repaired too: removing the new tail, then the
  // head, leaves an empty list.
  list.remove(&c);
  EXPECT_EQ(list.back(), &a);
  EXPECT_EQ(IntrusiveList<Item>::next(&a), nullptr);
  list.remove(&a);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.back(), nullptr);
}

TEST(IntrusiveListTest, RemoveHeadAndTailUpdateTheEnds) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.push_back(&a);
  list.push_back(&b);
  list.push_back(&c);
  list.remove(&a);
  EXPECT_EQ(list.front(), &b);
  list.remove(&c);
  EXPECT_EQ(list.back(), &b);
  EXPECT_EQ(ids(list), (std::vector<int>{2}));
  list.push_back(&a);  // a removed item can be linked again, at the back
  EXPECT_EQ(ids(list), (std::vector<int>{2, 1}));
  EXPECT_EQ(list.back(), &a);
  list.remove(&b);
  list.remove(&a);
}

TEST(IntrusiveListTest, AnItemSitsInOneListPerTagIndependently) {
  Item a(1), b(2);
  IntrusiveList<Item> first;
  IntrusiveList<Item, OtherTag> second;
  first.push_back(&a);
  first.push_back(&b);
  second.push_back(&b);
  second.push_back(&a);
  EXPECT_EQ(ids(first), (std::vector<int>{1, 2}));
  EXPECT_EQ(ids(second), (std::vector<int>{2, 1}));

  first.remove(&a);
  EXPECT_FALSE(linked(a));
  EXPECT_TRUE((a.IntrusiveListNode<Item, OtherTag>::is_linked()));
  EXPECT_EQ(ids(second), (std::vector<int>{2, 1}));
  second.remove(&a);
  second.remove(&b);
  first.remove(&b);
}

TEST(IntrusiveListTest, ACopyIsANewUnlinkedItem) {
  Item a(1);
  IntrusiveList<Item> list;
  list.push_back(&a);
  Item copy = a;
  EXPECT_FALSE(linked(copy));
  EXPECT_EQ(ids(list), (std::vector<int>{1}));
  Item assigned(2);
  list.push_back(&assigned);
  assigned = a;  // keeps its own links
  EXPECT_TRUE(linked(assigned));
  EXPECT_EQ(ids(list), (std::vector<int>{1, 1}));
  list.remove(&a);
  list.remove(&assigned);
}

}  // namespace
}  // namespace evergreen::internal
