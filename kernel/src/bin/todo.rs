//! The Todo-Backend app as a unikernel image (`make run APP=todo`): its
//! API at `/todos`, its page at `/` and `/todo`, on port 80.
#![no_std]
#![no_main]

use bedrock_todo::Todos;

bedrock_kernel::app!(Todos = Todos::new());
