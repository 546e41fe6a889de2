# The public surface of client.intake, the one list of it: the package loads each name
# from its module on first use (lazy_loader.attach_stub reads this file).
from .converted import ConversionJob as ConversionJob
from .errors import IntakeError as IntakeError
from .events import FileProcessed as FileProcessed
from .events import FileTaken as FileTaken
from .events import FolderStatus as FolderStatus
from .events import IntakeEvent as IntakeEvent
from .events import ObserverRestarted as ObserverRestarted
from .events import RescanDone as RescanDone
from .events import WatcherProblem as WatcherProblem
from .events import WatcherStarted as WatcherStarted
from .events import WatcherStopped as WatcherStopped
from .reading import first_page_text as first_page_text
from .rejection import RejectKind as RejectKind
from .results import IntakeResult as IntakeResult
from .results import IntakeStatus as IntakeStatus
from .results import IntakeSummary as IntakeSummary
from .service import IntakeService as IntakeService
from .settings import IntakeSettings as IntakeSettings
from .settings import PollingMode as PollingMode
from .settings import ProcessedAction as ProcessedAction
from .sheets import separator_sheets as separator_sheets
from .watcher import Watcher as Watcher
