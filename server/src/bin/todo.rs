//! The Todo-Backend app on bedrock-serve (`make serve APP=todo`): its API
//! at `/todos`, its page at `/todo`, files everywhere else, todos kept in
//! `--data DIR/todos.journal`.
#![no_std]
#![no_main]

use bedrock_todo::Todos;

bedrock_serve::app!(Todos::new, mount: &["/todos", "/todo"], journal: "todos.journal");
