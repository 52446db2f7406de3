# gdb commands for evergreen programs: what every task of every loop is doing,
# in a live process or a core file.
#
#   (gdb) source tools/gdb/evergreen.py
#   (gdb) info evergreen-tasks
#   loop on thread 4711 (gdb thread 2)
#     [0] 'reader' blocked on Queue::get
#     [1] 'writer' running
#   (gdb) evergreen-bt reader        # or: evergreen-bt 0
#   #0  evergreen::Fiber::switch_to() at fiber/fiber.cc:120
#   #1  ...
#
# How it finds them: every loop registers a LoopWatch with the process-wide
# watchdog (loop/internal/stall_watchdog.h), whose list the unmangled global
# `evergreen_gdb_loop_watches` points at. From each watch it reaches the loop
# (the watch's `running` points at the loop's current_ member), the loop's
# live tasks, and each task's fiber. A suspended fiber's stack is walked
# along its frame pointers from its saved context (the build keeps frame
# pointers), each frame checked against the fiber's stack bounds, exactly as
# loop/internal/stack_trace.cc does in-process; the running task's stack is
# its thread's, shown with gdb's own backtrace. The evergreen types must have
# debug information (-g); functions and lines come from whatever debug
# information the program has, names from its symbol table otherwise.

import gdb

_MAX_FRAMES = 64


def _type(name):
    return gdb.lookup_type(name)


def _std_string(value):
    try:
        pointer = value["_M_dataplus"]["_M_p"]
        length = int(value["_M_string_length"])
        return pointer.string(length=length)
    except gdb.error:
        return value.format_string(raw=False).strip('"')


def _vector_items(vector):
    impl = vector["_M_impl"]
    start, finish = impl["_M_start"], impl["_M_finish"]
    count = int(finish - start)
    return [(start + i).dereference() for i in range(count)]


class _Task(object):
    def __init__(self, index, loop, task, sequence):
        self.index = index
        self.loop = loop
        self.task = task
        self.sequence = sequence
        self.name = _std_string(task["name_"])
        context = task["context_"]
        self.context = context
        self.fiber = context["fiber"].cast(_type("evergreen::Fiber").pointer())
        if int(loop.core["current_"]) == int(context.address):
            self.state = "running"
        elif bool(context["scheduled"]):
            self.state = "ready"
        else:
            self.state = "blocked"
        self.waiting_on = ""
        if self.state == "blocked":
            label = context["waiting_on"]
            self.waiting_on = label.string() if int(label) != 0 else "unknown"

    def describe(self):
        text = "  [%d] '%s' %s" % (self.index, self.name, self.state)
        if self.waiting_on:
            text += " on " + self.waiting_on
        return text


class _Loop(object):
    def __init__(self, watch):
        self.watch = watch
        self.thread_id = int(watch["thread_id"])
        core_type = _type("evergreen::internal::LoopCore")
        offset = core_type["current_"].bitpos // 8
        address = int(watch["running"]) - offset
        self.core = gdb.Value(address).cast(core_type.pointer()).dereference()

    def gdb_thread(self):
        for thread in gdb.selected_inferior().threads():
            if thread.ptid[1] == self.thread_id:
                return thread
        return None

    def tasks(self, first_index):
        entries = _vector_items(self.core["live_tasks_"]["entries_"]["items_"])
        live = [(int(e["sequence"]), e["task"]) for e in entries if int(e["task"]) != 0]
        live.sort(key=lambda pair: pair[0])
        # live_tasks.h only declares Task: look the whole type up by name.
        task_pointer = _type("evergreen::Task").pointer()
        return [
            _Task(first_index + i, self, task.cast(task_pointer).dereference(), sequence)
            for i, (sequence, task) in enumerate(live)
        ]


def _loops():
    try:
        anchor = gdb.parse_and_eval("*(void**)&evergreen_gdb_loop_watches")
    except gdb.error:
        raise gdb.GdbError(
            "evergreen: no evergreen_gdb_loop_watches in this program "
            "(not an evergreen program, or built without //loop)")
    if int(anchor) == 0:
        return []
    watch_pointer = _type("evergreen::internal::LoopWatch").pointer()
    # The list's first word is its head (loop/internal/intrusive_list.h).
    watch = anchor.cast(watch_pointer.pointer()).dereference()
    loops = []
    while int(watch) != 0 and len(loops) < 1024:
        loops.append(_Loop(watch.dereference()))
        watch = watch.dereference()["next_"]
    return loops


def _all_tasks():
    tasks = []
    loops = _loops()
    for loop in loops:
        tasks.extend(loop.tasks(len(tasks)))
    return loops, tasks


def _describe_pc(pc, return_address):
    lookup = pc - 1 if return_address else pc
    name = None
    block = None
    try:
        block = gdb.block_for_pc(lookup)
    except RuntimeError:
        block = None
    while block is not None and block.function is None:
        block = block.superblock
    if block is not None and block.function is not None:
        name = block.function.print_name
    if name is None:
        text = gdb.execute("info symbol 0x%x" % lookup, to_string=True).strip()
        name = text.split(" in section")[0] if not text.startswith("No symbol") else "0x%x" % pc
    line = gdb.find_pc_line(lookup)
    if line.symtab is not None and line.line:
        return "%s at %s:%d" % (name, line.symtab.filename, line.line)
    return name


def _suspended_frames(fiber):
    """Return addresses of a suspended fiber, innermost first."""
    context = fiber["context_"]
    pc = int(context["pc"])
    low = int(fiber["stack_"])
    high = low + int(fiber["stack_size_"])
    if pc == 0 or low == 0:
        return []
    frames = [pc]
    inferior = gdb.selected_inferior()
    pointer_size = gdb.lookup_type("void").pointer().sizeof
    frame = int(context["fp"])
    while len(frames) < _MAX_FRAMES:
        if frame < low or frame > high - 2 * pointer_size or frame % pointer_size != 0:
            break
        memory = inferior.read_memory(frame, 2 * pointer_size).tobytes()
        caller = int.from_bytes(memory[:pointer_size], "little")
        return_address = int.from_bytes(memory[pointer_size:], "little")
        if return_address == 0:
            break
        frames.append(return_address)
        if caller <= frame:
            break
        frame = caller
    return frames


class InfoEvergreenTasks(gdb.Command):
    """List every evergreen task of every loop: index, name, state, blocking call.

Usage: info evergreen-tasks"""

    def __init__(self):
        super(InfoEvergreenTasks, self).__init__("info evergreen-tasks", gdb.COMMAND_STATUS)

    def invoke(self, argument, from_tty):
        loops, tasks = _all_tasks()
        if not loops:
            print("evergreen: no event loop in this process")
            return
        for loop in loops:
            thread = loop.gdb_thread()
            print("loop on thread %d (gdb thread %s)" %
                  (loop.thread_id, thread.num if thread is not None else "?"))
            mine = [task for task in tasks if task.loop is loop]
            if not mine:
                print("  no tasks")
            for task in mine:
                print(task.describe())


class EvergreenBacktrace(gdb.Command):
    """Show the stack of one evergreen task, by name or by its index in
info evergreen-tasks.

Usage: evergreen-bt NAME-OR-INDEX"""

    def __init__(self):
        super(EvergreenBacktrace, self).__init__("evergreen-bt", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        wanted = argument.strip()
        if not wanted:
            raise gdb.GdbError("evergreen-bt: name a task (or give its index)")
        _, tasks = _all_tasks()
        chosen = [t for t in tasks if t.name == wanted]
        if not chosen and wanted.isdigit():
            chosen = [t for t in tasks if t.index == int(wanted)]
        if not chosen:
            raise gdb.GdbError("evergreen-bt: no task named or numbered '%s' "
                               "(see info evergreen-tasks)" % wanted)
        task = chosen[0]
        print(task.describe().strip())
        if task.state == "running":
            thread = task.loop.gdb_thread()
            if thread is None:
                raise gdb.GdbError("evergreen-bt: the thread of task '%s' is not known to gdb"
                                   % task.name)
            previous = gdb.selected_thread()
            thread.switch()
            try:
                gdb.execute("bt", to_string=False)
            finally:
                previous.switch()
            return
        frames = _suspended_frames(task.fiber.dereference())
        if not frames:
            print("  (no stack: the task has not run yet)")
        for number, pc in enumerate(frames):
            print("#%-3d0x%016x in %s" % (number, pc, _describe_pc(pc, number != 0)))


InfoEvergreenTasks()
EvergreenBacktrace()
