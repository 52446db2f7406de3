// The executable of gdb_test_program: everything is in gdb_test_program_lib.cc.
int gdb_test_program_main();

int main() { return gdb_test_program_main(); }
